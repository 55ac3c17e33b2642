export { startSimSite, type SimEndpoint, type SimSite, type SimSiteOptions, type SiteTruth } from './sim-site.js';
export { buildSiteModel, initialSiteState, stepSiteState, LOAD_MODEL, type SiteModelConfig, type SiteModelState } from './model/site-model.js';
export { deviceQuantities, type DeviceQuantities, type QuantityValue } from './model/quantities.js';
export { encodeSnmpValues, type SnmpServedValue } from './encode/snmp-values.js';
export { encodeModbusImage, readImage, MODBUS_EXCEPTION, type RegisterImage } from './encode/modbus-registers.js';
export { SnmpEndpoint, type SnmpDeviceBinding } from './servers/snmp-endpoint.js';
export { ModbusEndpoint, type ModbusUnitBinding } from './servers/modbus-endpoint.js';
