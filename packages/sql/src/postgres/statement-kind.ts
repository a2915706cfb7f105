import type { StatementKind } from '../facts.js';

/**
 * Every statement node of the PostgreSQL 18 raw grammar, mapped to the shared kind vocabulary.
 * Node types whose kind depends on their fields (DropStmt, GrantStmt, VacuumStmt, ...) are refined
 * by `statementKind`; anything not listed here is 'other'.
 */
const BY_NODE: Record<string, StatementKind> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
  TruncateStmt: 'truncate',
  ReturnStmt: 'select',
  PLAssignStmt: 'other',

  DropStmt: 'drop_other',
  DropdbStmt: 'drop_database',
  DropRoleStmt: 'drop_role',
  DropOwnedStmt: 'drop_other',
  DropSubscriptionStmt: 'drop_other',
  DropTableSpaceStmt: 'drop_other',
  DropUserMappingStmt: 'drop_other',

  AlterTableStmt: 'alter_table',
  AlterSystemStmt: 'alter_system',
  AlterRoleStmt: 'alter_role',
  AlterRoleSetStmt: 'alter_role',
  AlterCollationStmt: 'alter_other',
  AlterDatabaseRefreshCollStmt: 'alter_other',
  AlterDatabaseSetStmt: 'alter_other',
  AlterDatabaseStmt: 'alter_other',
  AlterDefaultPrivilegesStmt: 'grant',
  AlterDomainStmt: 'alter_other',
  AlterEnumStmt: 'alter_other',
  AlterEventTrigStmt: 'alter_other',
  AlterExtensionContentsStmt: 'alter_other',
  AlterExtensionStmt: 'alter_other',
  AlterFdwStmt: 'alter_other',
  AlterForeignServerStmt: 'alter_other',
  AlterFunctionStmt: 'alter_other',
  AlterObjectDependsStmt: 'alter_other',
  AlterObjectSchemaStmt: 'alter_other',
  AlterOpFamilyStmt: 'alter_other',
  AlterOperatorStmt: 'alter_other',
  AlterOwnerStmt: 'alter_other',
  AlterPolicyStmt: 'alter_other',
  AlterPublicationStmt: 'alter_other',
  AlterSeqStmt: 'alter_other',
  AlterStatsStmt: 'alter_other',
  AlterSubscriptionStmt: 'alter_other',
  AlterTSConfigurationStmt: 'alter_other',
  AlterTSDictionaryStmt: 'alter_other',
  AlterTableMoveAllStmt: 'alter_other',
  AlterTableSpaceOptionsStmt: 'alter_other',
  AlterTypeStmt: 'alter_other',
  AlterUserMappingStmt: 'alter_other',
  RenameStmt: 'alter_other',
  ReplicaIdentityStmt: 'alter_table',
  ReassignOwnedStmt: 'alter_other',
  SecLabelStmt: 'alter_other',

  CreateStmt: 'create_table',
  CreateForeignTableStmt: 'create_table',
  CreateTableAsStmt: 'create_table_as',
  IndexStmt: 'create_index',
  ViewStmt: 'create_view',
  CreateFunctionStmt: 'create_function',
  CreateTrigStmt: 'create_trigger',
  CreateEventTrigStmt: 'create_trigger',
  RuleStmt: 'create_rule',
  CreateSchemaStmt: 'create_schema',
  CreatedbStmt: 'create_database',
  CreateRoleStmt: 'create_role',
  CreateExtensionStmt: 'create_extension',
  CreateAmStmt: 'create_other',
  CreateCastStmt: 'create_other',
  CreateConversionStmt: 'create_other',
  CreateDomainStmt: 'create_other',
  CreateEnumStmt: 'create_other',
  CreateFdwStmt: 'create_other',
  CreateForeignServerStmt: 'create_other',
  CreateOpClassStmt: 'create_other',
  CreateOpFamilyStmt: 'create_other',
  CreatePLangStmt: 'create_other',
  CreatePolicyStmt: 'create_other',
  CreatePublicationStmt: 'create_other',
  CreateRangeStmt: 'create_other',
  CreateSeqStmt: 'create_other',
  CreateStatsStmt: 'create_other',
  CreateSubscriptionStmt: 'create_other',
  CreateTableSpaceStmt: 'create_other',
  CreateTransformStmt: 'create_other',
  CreateUserMappingStmt: 'create_other',
  CompositeTypeStmt: 'create_other',
  DefineStmt: 'create_other',
  ImportForeignSchemaStmt: 'create_other',

  GrantStmt: 'grant',
  GrantRoleStmt: 'grant',
  CopyStmt: 'copy',
  CallStmt: 'call',
  DoStmt: 'do',
  VariableSetStmt: 'set',
  ConstraintsSetStmt: 'set',
  VariableShowStmt: 'show',
  TransactionStmt: 'transaction',
  PrepareStmt: 'prepare',
  ExecuteStmt: 'execute',
  DeallocateStmt: 'deallocate',
  ExplainStmt: 'explain',
  DeclareCursorStmt: 'declare_cursor',
  FetchStmt: 'fetch',
  ClosePortalStmt: 'close_cursor',
  ListenStmt: 'listen',
  UnlistenStmt: 'listen',
  NotifyStmt: 'notify',
  LockStmt: 'lock',
  VacuumStmt: 'vacuum',
  ReindexStmt: 'reindex',
  ClusterStmt: 'cluster',
  RefreshMatViewStmt: 'refresh_materialized_view',
  CommentStmt: 'comment',
  DiscardStmt: 'discard',
  LoadStmt: 'load',
  CheckPointStmt: 'checkpoint',
};

const DROP_BY_OBJECT: Record<string, StatementKind> = {
  OBJECT_TABLE: 'drop_table',
  OBJECT_FOREIGN_TABLE: 'drop_table',
  OBJECT_INDEX: 'drop_index',
  OBJECT_VIEW: 'drop_view',
  OBJECT_MATVIEW: 'drop_view',
  OBJECT_SCHEMA: 'drop_schema',
  OBJECT_FUNCTION: 'drop_function',
  OBJECT_PROCEDURE: 'drop_function',
  OBJECT_ROUTINE: 'drop_function',
  OBJECT_AGGREGATE: 'drop_function',
  OBJECT_DATABASE: 'drop_database',
  OBJECT_ROLE: 'drop_role',
};

/** Object types whose names denote relations (tables, views, sequences, indexes). */
export const RELATION_OBJECTS = new Set(['OBJECT_TABLE', 'OBJECT_FOREIGN_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_INDEX', 'OBJECT_SEQUENCE']);

/** Node types the mapping knows (for the exhaustiveness test). */
export const KNOWN_STATEMENT_NODES: readonly string[] = Object.keys(BY_NODE);

/** The kind of one statement node (`type` is its JSON key, `n` its fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function statementKind(type: string, n: any): StatementKind {
  switch (type) {
    case 'DropStmt':
      return DROP_BY_OBJECT[n?.removeType] ?? 'drop_other';
    case 'SelectStmt':
      return n?.intoClause ? 'create_table_as' : 'select';
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return n?.is_grant ? 'grant' : 'revoke';
    case 'AlterDefaultPrivilegesStmt':
      return n?.action?.is_grant ? 'grant' : 'revoke';
    case 'VacuumStmt':
      return n?.is_vacuumcmd ? 'vacuum' : 'analyze';
    case 'AlterTableStmt':
      return n?.objtype === 'OBJECT_TABLE' || n?.objtype === 'OBJECT_FOREIGN_TABLE' ? 'alter_table' : 'alter_other';
    case 'RenameStmt':
      return n?.relation && (n.relationType === 'OBJECT_TABLE' || n.relationType === 'OBJECT_FOREIGN_TABLE' || n.renameType === 'OBJECT_TABLE' || n.renameType === 'OBJECT_FOREIGN_TABLE')
        ? 'alter_table'
        : 'alter_other';
    case 'AlterObjectSchemaStmt':
      return n?.objectType === 'OBJECT_TABLE' || n?.objectType === 'OBJECT_FOREIGN_TABLE' ? 'alter_table' : 'alter_other';
    default:
      return BY_NODE[type] ?? 'other';
  }
}
