export { startSimSite, type FaultOutcome, type FaultView, type SimEndpoint, type SimListener, type SimSite, type SimSiteOptions, type SimTruth } from './sim-site.js';
export { DeviceFaultsSchema, FaultSpecSchema, FaultsFileSchema, FAULT_KINDS, type FaultKind, type FaultSpec, type FaultsFile } from './faults/fault-spec.js';
export { createSiteModel, type SiteModel } from './model/site.js';
export type { SiteTruth, TruthQuery } from './truth/truth-recorder.js';
export { writeTruthFile } from './truth/truth-file.js';
export { SnmpEndpoint, type SnmpDeviceBinding } from './servers/snmp-endpoint.js';
export { ModbusEndpoint, type ModbusUnitBinding } from './servers/modbus-endpoint.js';
export { RedfishEndpoint, type RedfishDeviceBinding } from './servers/redfish-endpoint.js';
