export * from './config/types.js';
export { loadConfig, parseConfig } from './config/load.js';
export { startProxy, toPgTarget, type RunningProxy, type ProxyOptions } from './proxy.js';
export { runDemo, type DemoOptions } from './demo/run-demo.js';
