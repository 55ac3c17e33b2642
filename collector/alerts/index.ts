/** Alerting: what the composition root and the HTTP API use. */
export { AlertEngine, type AlertEngineOptions, type AlertEvaluation, type AlertFilter, type AlertStats } from './alert-engine.js';
export { AlertMessageSchema, type AlertMessage } from '../../contract/messages.js';
export { AlertsConfigSchema, alertsConfigWithAbsolutePaths, createAlertEngine, loadAlertRules, notifiersFromConfig, type AlertsConfig, type AlertEngineDeps } from './alerts-config.js';
export { loadAlertRuleSet, parseAlertRules, defaultRulesFile, type AlertRuleSet } from './load-rules.js';
export type { AlertPublish } from './notifiers/mqtt-alerts.js';
export type { NotifierStats } from './notifiers/dispatcher.js';
