/**
 * Real services for tests, started from PATH on free loopback ports with temp data dirs.
 * Each launcher resolves `{ ok: true, value: service }`, or `{ ok: false, reason }` when its
 * binary is not installed; use them through require-service.ts, which turns "not installed"
 * into a visible skip, or into a failure when DCIM_REQUIRE_SERVICES=1.
 */
export { freePort, isListening } from './free-port.js';
export { findBinary } from './find-binary.js';
export { LocalService, LOOPBACK, type Launched, type ServiceUnavailable } from './local-service.js';
export { ServiceStartError, type ExitStatus } from './managed-process.js';
export { Mosquitto, startMosquitto, type MosquittoOptions, type MqttUser } from './mosquitto.js';
export { InfluxV1, startInfluxV1, type InfluxSeries, type Precision } from './influxdb-v1.js';
export { VictoriaMetrics, startVictoriaMetrics, type VmSeries } from './victoria-metrics.js';
export {
  Alertmanager,
  BLACKHOLE_CONFIG,
  startAlertmanager,
  type AlertmanagerAlert,
  type AlertmanagerOptions,
} from './alertmanager.js';
