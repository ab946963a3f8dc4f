/* eslint-disable */
// Runs the TypeScript benches without a build step: `node -r ./bench/swc-register.js bench/run-audit.ts`.
// Compiles .ts files with @swc/core using the same options as jest.config.js, and resolves the @app/* paths
// of tsconfig.json to libs/*/src (plus the `.js` suffix some imports carry).
'use strict';
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..');
const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, isMain, opts) {
  const m = /^@app\/([^/]+)(\/.*)?$/.exec(request);
  if (m) {
    request = path.join(root, 'libs', m[1], 'src', m[2] || '');
  } else if (
    /^\.{1,2}\/.*\.js$/.test(request) &&
    parent &&
    parent.filename &&
    parent.filename.endsWith('.ts')
  ) {
    try {
      return originalResolve.call(this, request, parent, isMain, opts);
    } catch {
      request = request.slice(0, -3);
    }
  }
  return originalResolve.call(this, request, parent, isMain, opts);
};

require.extensions['.ts'] = function compile(module, filename) {
  const source = require('node:fs').readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...options, filename });
  module._compile(code, filename);
};
