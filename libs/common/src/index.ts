export * from './ids';
export * from './domain';
export * from './clock';
export * from './quarantine';
export * from './notifications';
export * from './errors';
export * from './records';
