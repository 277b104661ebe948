export * from './wait-for';
export * from './test-env';
export * from './topic-reader';
export * from './service-process';
export * from './ports';
export * from './pipeline';
export * from './gc';
