/**
 * The collector's and the bureau's /metrics use the agent's exposition: one renderer, one
 * policy (a family that breaks the format is a bug and throws; a value that is not finite is
 * written as NaN, +Inf or -Inf, which the format spells out). These names stay for the HTTP code.
 */
export {
  EXPOSITION_CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE,
  formatExposition as renderPrometheus,
  type MetricFamily,
  type Sample as MetricSample,
} from '../../shared/metrics/exposition.js';
