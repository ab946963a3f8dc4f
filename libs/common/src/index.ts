export * from './ids';
export * from './domain';
export * from './quarantine';
export * from './notifications';
export * from './errors';
