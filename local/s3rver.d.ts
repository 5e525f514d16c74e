/** s3rver ships no types; this covers the part of its API the embedded S3 uses (local/embedded-s3.ts). */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    /** 0 for a free port. @default 4568 */
    port?: number;
    /** No request log. */
    silent?: boolean;
    /** Where buckets and objects are kept, one directory per bucket. */
    directory: string;
    /** Empty the directory when the server closes. @default false */
    resetOnClose?: boolean;
    /** Answer `<bucket>.<host>` requests as that bucket's. @default true */
    vhostBuckets?: boolean;
    /** Buckets created (when absent) before the server listens. */
    configureBuckets?: Array<{ name: string }>;
  }

  class S3rver {
    constructor(options: S3rverOptions);
    /** Its Koa middleware, outermost first (a Koa application's `middleware`), composed when it listens. */
    middleware: unknown[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
  export = S3rver;
}

/** s3rver's built-in account registry: the access keys it accepts (it does not check V4 signatures). */
declare module 's3rver/lib/models/account' {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  export const DUMMY_ACCOUNT: AWSAccount;
}
