package api

// routes registers every route in one list.
func (s *Server) routes() {
	a := s.app
	a.Get("/health", s.health)
	a.Get("/models", s.models)

	a.Post("/generate", s.requireAPIKey, s.generate)
	a.Get("/status/:task_id", s.requireAPIKey, s.status)
	a.Get("/results/:task_id", s.requireAPIKey, s.result)
	a.Get("/preview/:task_id", s.requireAPIKey, s.preview)

	a.Delete("/tasks/:task_id", s.requireAPIKey, s.cancel)
	a.Post("/tasks/:task_id/cancel", s.requireAPIKey, s.cancel)
	a.Get("/tasks/:task_id/events", s.requireAPIKey, s.events)
}
