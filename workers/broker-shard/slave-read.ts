/**
 * RocketMQ's slaveReadEnable: a master sends a consumer far behind to a slave (sparing the
 * master), and a slave sends a consumer that caught up back to the master.
 */
export function suggestBrokerId(
  config: { slaveReadEnable: boolean; slaveReadBehindMessages: number; slavesPerBroker: number },
  servedBy: number,
  outcome: { maxOffset: number; nextBeginOffset: number },
): number {
  const behind = outcome.maxOffset - outcome.nextBeginOffset > config.slaveReadBehindMessages;
  if (!config.slaveReadEnable || config.slavesPerBroker === 0 || !behind) return 0;
  return servedBy > 0 ? servedBy : 1;
}
