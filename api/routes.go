package api

// routes registers every route in one list.
func (s *Server) routes() {
	a := s.app
	a.Get("/health", s.health)
	a.Get("/ready", s.ready)
	a.Get("/models", s.models)
	a.Get("/settings", s.settingsFile)
	a.Get("/openapi.json", s.openAPI)
	a.Get("/docs", s.docs)

	// The web studio and admin pages (studio.go): one page each, routed in the browser by hash.
	// Registered before the /admin group so loading the page is neither audited nor limited.
	a.Get("/", s.studioPage)
	a.Get("/admin", s.studioPage)
	a.Get("/assets/:file", s.studioAsset)

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

	// Admin (admin_session.go): every request is audited (auditAdmin, outermost, one row each)
	// and rate limited per client IP (limitAdmin); every route but POST and DELETE
	// /admin/session requires the admin session (requireAdmin). The API key opens none of them.
	// GPU workers of an account (worker_accounts.go): the X-Worker-Token header.
	a.Post("/workers/register", s.requireWorker, s.registerWorker)
	a.Post("/workers/heartbeat", s.requireWorker, s.workerHeartbeat)

	adm := a.Group("/admin", s.auditAdmin, s.limitAdmin)
	adm.Post("/session", s.createAdminSession)
	adm.Get("/session", s.requireAdmin, s.getAdminSession)
	adm.Delete("/session", s.deleteAdminSession)
	adm.Get("/audit", s.requireAdmin, s.listAudit)
	adm.Post("/accounts", s.requireAdmin, s.requireAccounts, s.createAccount)
	adm.Get("/accounts", s.requireAdmin, s.requireAccounts, s.listAccounts)
	adm.Get("/accounts/:id", s.requireAdmin, s.requireAccounts, s.getAccount)
	adm.Delete("/accounts/:id", s.requireAdmin, s.requireAccounts, s.deleteAccount)
	adm.Post("/accounts/:id/disable", s.requireAdmin, s.requireAccounts, s.disableAccount)
	adm.Post("/accounts/:id/enable", s.requireAdmin, s.requireAccounts, s.enableAccount)
	adm.Post("/accounts/:id/reset-usage", s.requireAdmin, s.requireAccounts, s.resetAccountUsage)
	adm.Post("/maintenance/:name", s.requireAdmin, s.startMaintenance)
	adm.Get("/maintenance", s.requireAdmin, s.listMaintenance)
	adm.Get("/queues", s.requireAdmin, s.queues)
	adm.Get("/health", s.requireAdmin, s.adminHealth)
	adm.Get("/tasks/:task_id/why", s.requireAdmin, s.whyTask)
}
