import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vitest/config";

// dist/.gitkeep is committed so that `go build` (//go:embed all:dist) works without a
// web build. emptyOutDir deletes it, so emit it again as part of every build.
function keepGitkeep(): Plugin {
  return {
    name: "openwatch:keep-gitkeep",
    apply: "build",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: ".gitkeep", source: "" });
    },
  };
}

export default defineConfig({
  plugins: [react(), keepGitkeep()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Hashed names under dist/assets/: the Go server serves /assets/* as immutable.
    assetsDir: "assets",
    sourcemap: false,
    // The dashboard's chart library is one large lazy chunk; scripts/bundle-size.mjs
    // guards what matters, the initial load.
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      // The Go server (make run) listens with TLS on 8443 using its own development CA.
      "/api": { target: "https://127.0.0.1:8443", changeOrigin: false, secure: false },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    // Page tests render the whole app in jsdom; on a loaded two-core runner the default 5 s
    // is too tight for the larger ones.
    testTimeout: 20_000,
  },
});
