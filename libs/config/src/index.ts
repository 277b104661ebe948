export * from './config';
export * from './service-config';
export * from './api-keys';
export * from './node-flags';
