export * from './issue.js';
export * from './interpolate.js';
export * from './yaml-reader.js';
export * from './read-yaml.js';
export * from './duration.js';
export * from './byte-size.js';
export * from './host-port.js';
export * from './did-you-mean.js';
