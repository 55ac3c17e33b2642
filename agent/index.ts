/** The edge agent's public API (docs/design.md §1): poll devices per profile, publish to MQTT. */
export { Agent, type AgentOptions, type AgentStats } from './agent.js';
export { AgentConfigSchema, loadAgentConfig, type AgentConfig, type AgentMqttOptions, type LoadedAgentConfig } from './config.js';
export { selectDevices, type AgentDevice } from './devices.js';
export { checkProfile } from './profile-checks.js';
export type { DeviceReader, PollResult, PollStats, ReadOptions, RequestPolicy } from './device-reader.js';
export { decodeSnmpValue } from './decode/snmp-value.js';
export { decodeModbusValue } from './decode/modbus-value.js';
export { planReads, type PlannedRead, type Span } from './modbus/read-planner.js';
export { ModbusReader } from './modbus/modbus-reader.js';
export { createModbusSerialTransport } from './modbus/modbus-serial-transport.js';
export { SnmpReader } from './snmp/snmp-reader.js';
export { createNetSnmpTransport } from './snmp/net-snmp-transport.js';
export { Publisher, type PublisherOptions, type PublisherStats } from './publisher.js';
export { Scheduler, type ScheduledDevice, type PollSink } from './scheduler.js';
export { SeqStore } from './seq-store.js';
