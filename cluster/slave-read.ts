/**
 * RocketMQ's slaveReadEnable: a master sends a consumer far behind to a slave (sparing the
 * master), and a slave sends a consumer that caught up back to the master. A master suggests
 * its slave only while the slave is healthy and already holds the consumer's next offset
 * (`slaveHolds`, the slave's maxOffset as the master last heard it), so a stalled slave never
 * parks a consumer.
 */
export function suggestBrokerId(
  config: { slaveReadEnable: boolean; slaveReadBehindMessages: number; slavesPerBroker: number },
  servedBy: number,
  outcome: { maxOffset: number; nextBeginOffset: number; slaveHolds?: number | undefined },
): number {
  const behind = outcome.maxOffset - outcome.nextBeginOffset > config.slaveReadBehindMessages;
  if (!config.slaveReadEnable || config.slavesPerBroker === 0 || !behind) return 0;
  if (servedBy > 0) return servedBy;
  return outcome.slaveHolds !== undefined && outcome.slaveHolds > outcome.nextBeginOffset ? 1 : 0;
}
