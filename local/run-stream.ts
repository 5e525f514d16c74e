/**
 * DynamoDB Streams emulation for the ledger's run notifier. The embedded DynamoDB has no streams, so after a
 * run ends locally (an execution, a recovery or sweep pass) the runtime reads the run item and builds the
 * record the stream would carry, then delivers it to every event source mapping of the ledger table's stream
 * whose filter criteria match, as Lambda's poller would.
 *
 * An approximation, said plainly: each run is delivered once, as an INSERT of its final item (the runtime does
 * not see the item's earlier images), one record per invocation. The MODIFY cases of the filter are tested
 * against the template's filter criteria instead (test/stacks/run-notifier.test.ts).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { matchesPattern } from './status-events';
import { resolve, resourcesOfType, type CfnTemplate } from './template';

export interface StreamMapping {
  /** The logical id of the function the mapping invokes. */
  functionLogicalId: string;
  /** Its filter patterns (any one matches; none means every record). */
  patterns: unknown[];
}

/** The event source mappings on the stream of table `tableLogicalId`. */
export function streamMappings(template: CfnTemplate, tableLogicalId: string): StreamMapping[] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').flatMap(([, resource]) => {
    const props = resource.Properties ?? {};
    const source = props.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
    if (source?.['Fn::GetAtt']?.[0] !== tableLogicalId || source['Fn::GetAtt'][1] !== 'StreamArn') return [];
    if (props.Enabled === false) return [];
    const fn = resolve(template, props.FunctionName);
    const filters = (
      (props.FilterCriteria as { Filters?: Array<{ Pattern?: string }> } | undefined)?.Filters ?? []
    ).map((filter) => JSON.parse(String(filter.Pattern)) as unknown);
    return [{ functionLogicalId: String(fn), patterns: filters }];
  });
}

let sequence = 0;

/** The stream record of an item written for the first time (its image as the table holds it). */
export function insertRecord(
  tableLogicalId: string,
  item: Record<string, AttributeValue>,
): Record<string, unknown> {
  sequence += 1;
  const number = `${Date.now()}${String(sequence).padStart(6, '0')}`;
  return {
    eventID: `local-${number}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { pk: item.pk, sk: item.sk },
      NewImage: item,
      SequenceNumber: number,
      SizeBytes: Buffer.byteLength(JSON.stringify(item)),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableLogicalId}/stream/local`,
  };
}

/** Whether a mapping would deliver the record. */
export function mappingMatches(mapping: StreamMapping, record: unknown): boolean {
  return mapping.patterns.length === 0 || mapping.patterns.some((pattern) => matchesPattern(pattern, record));
}
