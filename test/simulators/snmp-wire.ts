/**
 * Hand-built SNMP datagrams, for what snmpget never sends: floods, garbage, raw probes.
 * BER layout of RFC 1905: SEQUENCE { version, community, GetRequest-PDU }.
 */

/** A v2c GetRequest for 1.3.6.1 (request id 1). */
export function v2cGet(community: string): Buffer {
  const c = Buffer.from(community);
  const pdu = Buffer.from('a014020101020100020100300930070603' + '2b06010500', 'hex');
  const body = Buffer.concat([Buffer.from([0x02, 0x01, 0x01, 0x04, c.length]), c, pdu]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
