/** The table design moved to `shared/contracts/` (infra and the adapters share it); kept here for existing imports. */
export * from '../contracts/table-design';
