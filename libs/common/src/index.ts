export * from './ids';
export * from './domain';
