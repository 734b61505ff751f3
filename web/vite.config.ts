import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** The console: built into dist/web, served by the node at / (src/adapters/http/web.ts). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    // Pages are split per route (React.lazy); the first load is the shell and the queue.
    chunkSizeWarningLimit: 400,
  },
  logLevel: 'warn',
});
