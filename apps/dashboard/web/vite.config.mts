import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard UI: built to web/dist and served by the dashboard app at /. In development, `npx vite` here
// proxies the API to a dashboard running on the default port.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
