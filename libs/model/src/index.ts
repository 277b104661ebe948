export * from './backend';
export * from './feature-vector';
export * from './model-artifacts';
