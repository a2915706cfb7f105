export * from './session-registry.js';
export * from './pg/pg-target.js';
export * from './pg/upstream-error.js';
export * from './pg/upstream-connect.js';
export * from './pg/pg-errors.js';
export * from './pg/startup-params.js';
export * from './pg/pg-session.js';
export * from './pg/pg-engine.js';
