package api

// routes registers every route in one list.
func (s *Server) routes() {
	a := s.app
	a.Get("/health", s.health)
	a.Get("/models", s.models)
	a.Get("/settings", s.settingsFile)
	a.Get("/openapi.json", s.openAPI)
	a.Get("/docs", s.docs)

	a.Post("/auth/session", s.createSession)
	a.Get("/auth/session", s.getSession)
	a.Delete("/auth/session", s.deleteSession)

	a.Post("/generate", s.requireAPIKey, s.limitGenerate, s.generate)
	a.Get("/status/:task_id", s.requireAPIKey, s.status)
	a.Get("/results/:task_id", s.requireMediaAccess("results"), s.result)
	a.Get("/preview/:task_id", s.requireMediaAccess("preview"), s.preview)
	a.Get("/gallery", s.requireAPIKey, s.gallery)
	a.Delete("/gallery/:task_id", s.requireAPIKey, s.deleteGalleryItem)

	a.Delete("/tasks/:task_id", s.requireAPIKey, s.cancel)
	a.Post("/tasks/:task_id/cancel", s.requireAPIKey, s.cancel)
	a.Get("/tasks/:task_id/events", s.requireAPIKey, s.events)
}
