export * from './graph-client';
export * from './status';
export * from './graph-errors';
export * from './credentials';
export * from './axios-graph.client';
