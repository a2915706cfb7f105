/** An upstream Postgres database as the engine needs it (file contents already read). */
export interface PgTarget {
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  tls?: {
    mode: 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    servername?: string;
  };
  connectTimeoutMs: number;
}
