/**
 * The one catalogue of error codes. Every error a user can see carries one of these codes;
 * test/contract/errors.test.ts keeps this list, the README and the code in step.
 */
export const ERROR_CODES = {
  DCIM_E_CONFIG_INVALID: 'A config, seed or profile file failed validation; every problem is listed with file and path.',
  DCIM_E_CONFIG_UNREADABLE: 'A config, seed or profile file could not be read or is not valid YAML.',
  DCIM_E_CONFIG_DEPRECATED: 'A config uses an old spelling of a key (mqtt.tls ca, cert, key for ca_file, cert_file, key_file): still read; --check prints it and the start logs it, with the file and the key to write instead.',
  DCIM_E_SECRET_MISSING: 'A secret referenced by env or file is not set or cannot be read.',
  DCIM_E_SECRET_FILE_INSECURE: 'A secret file (password, token, key) may be read or written by group or others; refused unless DCIM_ALLOW_INSECURE_SECRET_FILES=1, then warned once.',
  DCIM_E_PROFILE_UNKNOWN: 'A device names a profile that does not exist.',
  DCIM_E_MQTT_PAYLOAD_INVALID: 'An MQTT payload is not JSON or does not match the message schema.',
  DCIM_E_MQTT_TOPIC_INVALID: 'An MQTT topic does not follow the dcim/v1 grammar.',
  DCIM_E_MQTT_TS_TOO_OLD: 'A telemetry message is stamped further back than the collector keeps daily energy (800 days; e.g. a 1970 clock); it was refused.',
  DCIM_E_MQTT_TS_AHEAD: 'A telemetry message is stamped too far ahead of the receiver clock (agent clock skew); it was refused.',
  DCIM_E_MQTT_PAYLOAD_TOO_LARGE: 'An MQTT payload exceeds the size limit.',
  DCIM_E_MQTT_AGENT_MISMATCH: 'A telemetry payload names another agent than the topic it was published on; refused by the collector.',
  DCIM_E_MQTT_USER_UNEXPECTED: "An agent's mqtt.username is not <site>.<agent>, the broker user dcim broker-config grants its topics; flagged by --check and logged at start.",
  DCIM_E_SITE_OPEN: 'A site inventory names no device owner (site.agent, devices[].agent): any agent may speak for its devices; flagged by collector --check and logged at start.',
  DCIM_E_MQTT_NOT_OWNER: 'A telemetry, device-status or agent-state message came from an agent the site inventory does not name as the device owner (or not at all); refused by the collector.',
  DCIM_E_MQTT_LEGACY_TOPIC: 'A message on the old device topic (dcim/v1/<site>/devices/<device>/…, no agent) while mqtt.accept_legacy_topics is off; refused by the collector.',
  DCIM_E_MQTT_PUBLISH_REFUSED: 'The broker refused a publish with an MQTT 5 reason code (0x87: its ACL does not grant the topic to this identity); the agent keeps the message in its spool and retries.',
  DCIM_E_READING_INVALID: 'One reading inside a valid telemetry message was dropped (bad value, NaN, unknown unit).',
  DCIM_E_READING_NOT_IN_PROFILE: "A reading names a point the device's profile does not have; that reading was dropped, the rest of the poll kept.",
  DCIM_E_READING_INDEX_INVALID: "A reading's index tags are not the ones its profile table or collection declares (an index on a scalar point, another tag, several tags); that reading was dropped.",
  DCIM_E_READING_TYPE_MISMATCH: "A reading's value has another JSON type than its profile point gives (a number where the profile yields a string, or the reverse); dropped so the store's field type cannot be poisoned.",
  DCIM_E_READING_SERIES_LIMIT: 'A device already has as many distinct index values for a tag (256) or point names (1024, without a profile) as the collector keeps, none idle for a day; the reading opening a new series was dropped.',
  DCIM_E_SEQ_IMPLAUSIBLE: "A telemetry seq lies further ahead of the agent's highest accepted seq than it could have polled since (10,000 + 2 × the polls per second of the devices it owns, or of its site, × elapsed seconds) and no new birth (bd_seq) announced a restart; refused, dedup state unchanged.",
  DCIM_E_AGENT_LIMIT: 'A message named a new agent while its site already tracks as many agents as it has devices (at least 4), all heard within the hour; refused and counted.',
  DCIM_E_SNMP_TIMEOUT: 'An SNMP request got no answer within the timeout after all retries.',
  DCIM_E_SNMP_ERROR: 'An SNMP agent answered with an error status.',
  DCIM_E_SNMP_NO_SUCH_OBJECT: 'The agent does not implement the OID (noSuchObject / noSuchInstance / endOfMibView).',
  DCIM_E_SNMP_MALFORMED: 'An SNMP answer to a GET could not be used: bad BER (truncated, a length past its container, an integer or OID badly encoded) or not an echo of the request (version, community, PDU type, varbind count); refused and counted, no value taken from it.',
  DCIM_E_SNMP_BAD_TYPE: 'The agent answered an OID with a type the profile does not expect.',
  DCIM_E_SNMP_V3_LEVEL: 'An SNMPv3 device cannot run at the security level its config states or implies (a key or protocol missing, a level contradicting the keys, a passphrase under 8 characters); refused at config load, never downgraded.',
  DCIM_E_SNMP_V3_WEAK: 'An SNMPv3 device runs with weak settings (MD5 or DES, or no privacy on a public address); flagged by --check and logged at start.',
  DCIM_E_MODBUS_TIMEOUT: 'A Modbus request got no answer within the timeout after all retries.',
  DCIM_E_MODBUS_EXCEPTION: 'A Modbus device answered with an exception code.',
  DCIM_E_MODBUS_CONNECT: 'The Modbus TCP connection could not be opened.',
  DCIM_E_MODBUS_DEVICE_ID_INVALID: 'A Read Device Identification (function 43/14) answer was malformed: wrong framing, lengths past the frame, or non-text objects.',
  DCIM_E_SUNSPEC_NOT_FOUND: 'No SunSpec marker "SunS" at 40000, 50000 or 0: the device is not SunSpec, or not at this unit id.',
  DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 'The SunSpec model chain stopped before its end model (0xFFFF): a header could not be read or read as model 0; the models before it are used.',
  DCIM_E_SUNSPEC_CHAIN_LOOP: 'The SunSpec model chain did not end within 100 models (a register map that repeats itself); the models before are used.',
  DCIM_E_SUNSPEC_CHAIN_OVERRUN: 'A SunSpec model length runs past the Modbus address space (65535); that model and the rest of the chain are ignored.',
  DCIM_E_SUNSPEC_MODEL_MISSING: 'The device does not serve the SunSpec model a point needs, or serves it shorter than the point offset.',
  DCIM_E_SUNSPEC_MODEL_CHANGED: 'A SunSpec model ID no longer matched the cached layout (firmware update, device swap): the chain was walked again.',
  DCIM_E_REDFISH_TIMEOUT: 'A Redfish request got no complete answer within the timeout after all retries.',
  DCIM_E_REDFISH_HTTP: 'A Redfish service refused the connection or answered with an HTTP error status.',
  DCIM_E_REDFISH_AUTH: 'A Redfish service refused the credentials (HTTP 401 or 403).',
  DCIM_E_REDFISH_RESPONSE: 'A Redfish answer was not JSON, exceeded the size limit, or lacked the member or link the profile names.',
  DCIM_E_PROM_TIMEOUT: 'A Prometheus scrape got no complete answer within the timeout after all retries.',
  DCIM_E_PROM_HTTP: 'A Prometheus endpoint refused the connection or answered with an HTTP error status.',
  DCIM_E_PROM_AUTH: 'A Prometheus endpoint refused the bearer token (HTTP 401 or 403).',
  DCIM_E_PROM_RESPONSE: 'A Prometheus scrape was not the text exposition format (content type) or exceeded the size limit.',
  DCIM_E_PROM_PARSE: 'A line of a Prometheus exposition text did not parse (bad escape, missing value, duplicate HELP or TYPE, a repeated series, an over-long line); that line was skipped, the rest read.',
  DCIM_E_PROM_SERIES_MISSING: 'The scrape has no sample of the metric (and labels) a profile point names.',
  DCIM_E_PROM_SERIES_AMBIGUOUS: 'More than one series of the scrape matches one profile point (extra labels the profile does not pin).',
  DCIM_E_VALUE_UNAVAILABLE: 'The device reports the value as not available (a profile sentinel such as -1, 0x8000 or a float NaN).',
  DCIM_E_DECODE_VALUE: 'Raw device data could not be decoded into an engineering value.',
  DCIM_E_VALUE_OUT_OF_RANGE: 'A device value lies outside the physical bounds of its unit or the range its profile declares (65534 Hz, a negative UPS output power); published bad, without the value.',
  DCIM_E_VALUE_INCONSISTENT: 'A device value contradicts other readings of the same poll as its profile declares (active power against V × I, phases against their total); published bad, without the value.',
  DCIM_E_VALUE_STUCK: 'A live value (power, current) has not changed for the number of polls its profile allows; published uncertain.',
  DCIM_E_COUNTER_DECREASED: 'A cumulative counter went backwards outside a rollover (reset, meter swap or a misread); published uncertain, the collector ledger decides.',
  DCIM_E_SPOOL_DROPPED: 'The agent spool reached its byte or age bound and dropped its oldest records.',
  DCIM_E_SPOOL_WRITE: 'A record could not be written to the agent spool (disk full or I/O error) and was refused.',
  DCIM_E_SPOOL_CORRUPT: 'A spool segment was quarantined or a record in it was unreadable.',
  DCIM_E_SPOOL_LOCKED: 'Another running agent holds the spool directory.',
  DCIM_E_STORE_WRITE: 'A write to the time-series store failed.',
  DCIM_E_STORE_REJECTED: 'The time-series store rejected a batch (4xx); the batch was quarantined.',
  DCIM_E_STORE_READ: 'Stored readings or KPIs could not be read back from the time-series store.',
  DCIM_E_STORE_NO_SUMMARIES: 'The store cannot hold site summaries (VictoriaMetrics keeps no string fields and answers no InfluxQL SELECT): history is not restored at start and past months cannot be reported from it; use InfluxDB or the SQLite store.',
  DCIM_E_RESTORE_FAILED: "History could not be restored at start (the store did not answer, refused the query, or cannot hold summaries); the collector starts anyway, its month and year windows from what it sees from now on.",
  DCIM_E_SUMMARY_STORED_INVALID: 'A stored site-summary row does not parse as a summary, or its body names another site, window or start than its tags and time; skipped when history is read back, and counted.',
  DCIM_E_API_UNAUTHORIZED: 'An HTTP API request lacked a valid bearer token.',
  DCIM_E_API_NOT_FOUND: 'An HTTP API request named a route, site, cluster, device or alert that does not exist.',
  DCIM_E_API_BAD_REQUEST: 'An HTTP API request had invalid query parameters.',
  DCIM_E_API_METHOD: 'An HTTP API request used a method the route does not allow.',
  DCIM_E_API_TOO_LARGE: 'An HTTP API request exceeded the URL, header or body size limit.',
  DCIM_E_API_INTERNAL: 'The HTTP API failed while answering; the request can be retried.',
  DCIM_E_REPORT_SOURCE: 'The monthly report could not read its figures: the API is unreachable, refused the token, or holds another month.',
  DCIM_E_ALERT_ROBOT_REFUSED: 'A WeCom or DingTalk group robot refused an alert message (errcode ≠ 0 such as a wrong key, token, signature or keyword, or HTTP 4xx); counted as rejected, not retried.',
  DCIM_E_ALERT_ROBOT_THROTTLED: 'A WeCom or DingTalk group robot answered "too fast" (WeCom 45009, DingTalk 130101); delivery pauses as the vendor asks, then resumes.',
  DCIM_E_ALERT_ROBOT_UNREACHABLE: 'A WeCom or DingTalk group robot gave no answer, timed out, answered HTTP 5xx, or a reply that is not {errcode, errmsg}; retried with back-off.',
  DCIM_E_SUMMARY_INVALID: 'A site summary is not JSON, does not match the summary schema, or its window bounds do not fit its window kind (a 15m window that is not 15 minutes, unaligned bounds); refused by the bureau.',
  DCIM_E_SUMMARY_UNKNOWN_SITE: "A site summary names a site the bureau's clusters file does not list; refused.",
  DCIM_E_SUMMARY_TOPIC_MISMATCH: 'A site summary says another site or window than the topic it came on (a site writing under another site\'s topic); refused.',
  DCIM_E_SUMMARY_AHEAD: "A site summary's window ends, or it was generated, further ahead of the bureau's clock than the allowed skew (a site clock running fast); refused.",
  DCIM_E_SUMMARY_STALE_REVISION: 'A site summary carries a lower revision than the one the bureau holds for that window, or the same revision with other content; set aside, the stored figures unchanged.',
  DCIM_E_SUMMARY_IMPOSSIBLE: 'A site summary holds sums no site can have (more meter-time covered than its meters × the window, more racks on than available); refused.',
  DCIM_E_SITE_SILENT: 'A site has sent no summary for the number of quarter hours the bureau allows (bureau.silent_after_windows); alerted until it reports again.',
  DCIM_E_STORE_RETENTION_SHORT: "A bureau's SQLite store keeps fewer days (store.retention_days) than the quarter-hour and hour summaries it reads back at start (4); flagged by bureau --check: a restart would lose today's and the late-data days' figures.",
  DCIM_E_KPI_INSUFFICIENT: 'A KPI has too little input data to be computed.',
  DCIM_E_KPI_BOUNDARY: 'A KPI input violates its boundary (e.g. IT energy above facility energy, PUE < 1).',
  DCIM_E_KPI_NOT_FINITE: 'A KPI figure or one of its inputs is not a finite number, or is a ratio no site can have (PUE above 100); it has no value.',
  DCIM_E_KPI_STALE: 'A meter the KPI needs has no fresh data.',
  DCIM_E_CLI_USAGE: 'The command line is wrong: unknown command or option, or a missing or invalid flag value (exit 2).',
  DCIM_E_CLI_INTERNAL: 'A command failed in a way it does not expect (a bug); DCIM_LOG_LEVEL=debug prints the stack.',
  DCIM_E_NET_PORT_IN_USE: 'A port the command listens on is taken by another process, or the address is not this host.',
  DCIM_E_NET_REFUSED: 'A service the command connects to (broker, store, API, device) refused the connection: nothing listens at that host and port.',
  DCIM_E_NET_HOST_UNKNOWN: 'A host name could not be resolved (DNS): a typo in a URL or an address, or no name server.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DcimError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, details: readonly string[] = []) {
    super(details.length > 0 ? `${message}\n  ${details.join('\n  ')}` : message);
    this.name = 'DcimError';
    this.code = code;
    this.details = details;
  }
}

/** What a failed connect or listen was, from Node's error (or the `cause` fetch wraps it in). */
export interface NetworkFailure {
  code: 'DCIM_E_NET_PORT_IN_USE' | 'DCIM_E_NET_REFUSED' | 'DCIM_E_NET_HOST_UNKNOWN';
  /** One line naming the address, e.g. `connection refused by 127.0.0.1:8086: nothing listens there`. */
  message: string;
  /** The same without the address, for a caller that names it already: `nothing listens there`. */
  reason: string;
}

interface NodeNetError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function netCause(e: unknown, depth = 0): NodeNetError | undefined {
  if (typeof e !== 'object' || e === null || depth > 4) return undefined;
  const err = e as NodeNetError;
  if (typeof err.code === 'string' && /^(EADDRINUSE|EADDRNOTAVAIL|EACCES|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)$/.test(err.code)) {
    // fetch's AggregateError (happy eyeballs) carries the code but the address is in its errors.
    if (err.address === undefined && Array.isArray(err.errors) && err.errors.length > 0) return { ...(err.errors[0] as NodeNetError), code: err.code };
    return err;
  }
  return netCause(err.cause, depth + 1) ?? (Array.isArray(err.errors) ? netCause(err.errors[0], depth + 1) : undefined);
}

/**
 * A busy port, a refused connection or an unknown host name, recognised in any error Node,
 * fetch or mqtt.js throws; undefined for anything else. Every command reports these the same way.
 */
export function describeNetworkError(e: unknown): NetworkFailure | undefined {
  const c = netCause(e);
  if (!c) return undefined;
  const where = (c.address !== undefined ? `${String(c.address)}${c.port !== undefined ? `:${String(c.port)}` : ''}` : '') || (typeof c.hostname === 'string' ? c.hostname : '');
  const failure = (code: NetworkFailure['code'], lead: string, reason: string): NetworkFailure => ({ code, message: `${lead}: ${reason}`, reason });
  switch (c.code) {
    case 'EADDRINUSE':
      return failure('DCIM_E_NET_PORT_IN_USE', `cannot listen on ${where || 'the port'}`, 'another process already uses it');
    case 'EADDRNOTAVAIL':
      return failure('DCIM_E_NET_PORT_IN_USE', `cannot listen on ${where || 'the address'}`, "the address is not one of this host's");
    case 'EACCES':
      if (c.syscall !== 'listen' && c.syscall !== 'bind') return undefined;
      return failure('DCIM_E_NET_PORT_IN_USE', `cannot listen on ${where || 'the port'}`, 'permission denied (ports below 1024 need privileges)');
    case 'ECONNREFUSED':
      return failure('DCIM_E_NET_REFUSED', `connection refused by ${where || 'the service'}`, 'nothing listens there');
    default: {
      const name = typeof c.hostname === 'string' ? c.hostname : where || '(unknown)';
      return failure('DCIM_E_NET_HOST_UNKNOWN', `cannot resolve host name ${name}`, `no address found (${String(c.code)})`);
    }
  }
}

/** Whether a transport's error text says the host name did not resolve (getaddrinfo's codes). */
export function isHostUnknownMessage(message: string): boolean {
  return /\b(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\b/.test(message);
}
