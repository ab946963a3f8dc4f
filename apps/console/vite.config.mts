import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The operator console: a static build served by the API at /console (DESIGN section 2e). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  resolve: {
    alias: { '@app/common': fileURLToPath(new URL('../../libs/common/src', import.meta.url)) },
  },
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // Fluent UI marks its modules 'use client' (a server-components hint that means nothing here).
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') {
          warn(warning);
        }
      },
    },
  },
  logLevel: 'warn',
});
