// Moved to devtools/, shared with the benchmarks; kept here so tests import their helpers from one folder.
export * from '../../devtools/influxdb-v1.js';
