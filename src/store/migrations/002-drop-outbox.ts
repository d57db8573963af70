// Version 2: wake-ups to NATS are published from memory after each commit instead of through a
// table (docs/PROTOCOL.md "Wake-ups"): a lost wake-up costs at most one claim re-check, while
// the table cost two extra transactions per step.
export default `
DROP TABLE IF EXISTS noetl.outbox;
`;
