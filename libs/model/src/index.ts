export * from './backend';
export * from './decision-bias';
export * from './feature-vector';
export * from './model-artifacts';
export * from './input-encoding';
export * from './profile-model';
export * from './profile-model-loader';
export * from './model-version-store';
export { userFeatures as userFeaturesFixture } from './testing/user-features.fixture';
