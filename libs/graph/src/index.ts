export * from './graph-client';
export * from './status';
export * from './graph-errors';
export * from './credentials';
export * from './http-graph.client';
