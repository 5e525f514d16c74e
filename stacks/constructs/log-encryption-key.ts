import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface LogEncryptionKeyProps {
  /** A key of your own (its policy must let CloudWatch Logs use it). @default a new key, rotated yearly */
  readonly keyArn?: string | null;
}

/**
 * The customer-managed KMS key every log group of the app (functions and state machines) is encrypted with.
 * CloudWatch Logs itself encrypts and decrypts, so the key policy lets the regional Logs service use the key,
 * and only for log groups of this account and region (the `aws:logs:arn` encryption context).
 */
export class LogEncryptionKey extends Construct {
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps = {}) {
    super(scope, id);
    if (props.keyArn) {
      this.key = kms.Key.fromKeyArn(this, 'Imported', props.keyArn);
      return;
    }
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', {
      description: `${stack.stackName}: encrypts the log groups of its functions and state machines`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      // Logs written with it cannot be read without it: keep it when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': Arn.format(
              {
                service: 'logs',
                resource: 'log-group',
                resourceName: '*',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              },
              stack,
            ),
          },
        },
      }),
    );
    this.key = key;
  }
}
