export const TRAINER_CONFIG = Symbol('TRAINER_CONFIG');
export const TRAINER_BACKEND = Symbol('TRAINER_BACKEND');
