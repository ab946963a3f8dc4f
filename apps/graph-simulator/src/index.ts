export * from './simulator';
export * from './state';
export * from './demo';
export * from './tls';
