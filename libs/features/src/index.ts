export * from './feature-event';
export * from './feature-definitions';
export * from './user-state';
export * from './event-store';
