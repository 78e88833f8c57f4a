import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The bundle is embedded in the Go binary (web/embed.go) and served by the API process, so it
// is built with relative-free absolute asset paths under /assets and no source maps.
// `npm run dev` proxies the API to a running `make run` (GOONI_API, default :8080).
const api = process.env.GOONI_API ?? "http://127.0.0.1:8080";
const proxied = ["/auth", "/generate", "/status", "/results", "/preview", "/gallery", "/tasks", "/settings", "/models", "/health", "/admin/"];

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: false, sourcemap: false, assetsDir: "assets" },
  server: { proxy: Object.fromEntries(proxied.map((p) => [p, { target: api, changeOrigin: false }])) },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
