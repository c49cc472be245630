/**
 * Lambda@Edge events shaped as AWS documents them
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html):
 * header maps keyed by lower-case name, each a list of {key, value} (so a
 * field sent twice is two entries), the querystring without `?`, and for
 * origin-request the S3 origin with its custom headers.
 */
import type { CloudFrontEdgeEvent, CloudFrontRequest } from 'hono/lambda-edge';

export type HeaderList = readonly (readonly [string, string])[];

export interface EventSpec {
  readonly method?: string;
  readonly uri: string;
  readonly querystring?: string;
  readonly headers?: HeaderList;
  /** origin-request only: the S3 origin's custom headers. */
  readonly originHeaders?: HeaderList;
}

export const DISTRIBUTION = 'd111111abcdef8.cloudfront.net';

function headerMap(list: HeaderList): CloudFrontRequest['headers'] {
  const map: CloudFrontRequest['headers'] = {};
  for (const [key, value] of list) (map[key.toLowerCase()] ??= []).push({ key, value });
  return map;
}

function event(eventType: string, request: CloudFrontRequest): CloudFrontEdgeEvent {
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: DISTRIBUTION,
            distributionId: 'EDFDVBD6EXAMPLE',
            eventType,
            requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
          },
          request,
        },
      },
    ],
  };
}

/** The request as CloudFront hands it over: the spec's fields after the ones CloudFront itself sends. */
function request(spec: EventSpec, sent: HeaderList): CloudFrontRequest {
  return {
    clientIp: '203.0.113.178',
    method: spec.method ?? 'GET',
    uri: spec.uri,
    querystring: spec.querystring ?? '',
    headers: headerMap([...sent, ...(spec.headers ?? [])]),
  };
}

export function viewerRequestEvent(spec: EventSpec): CloudFrontEdgeEvent {
  return event('viewer-request', request(spec, [['Host', DISTRIBUTION], ['User-Agent', 'curl/8.4.0'], ['Accept', '*/*']]));
}

export function originRequestEvent(spec: EventSpec, bucket: string): CloudFrontEdgeEvent {
  const domainName = `${bucket}.s3.us-east-1.amazonaws.com`;
  const sent: HeaderList = [
    ['Host', domainName],
    ['User-Agent', 'Amazon CloudFront'],
    ['Via', '2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)'],
    ['X-Forwarded-For', '203.0.113.178'],
    ['Accept-Encoding', 'gzip'],
  ];
  return event('origin-request', {
    ...request(spec, sent),
    origin: {
      s3: { authMethod: 'none', customHeaders: headerMap(spec.originHeaders ?? []), domainName, path: '', region: 'us-east-1' },
    },
  });
}

/** Fields CloudFront does not let a function change, per event type. */
export const READ_ONLY = {
  'viewer-request': ['content-length', 'host', 'transfer-encoding', 'via'],
  'origin-request': [
    'accept-encoding',
    'content-length',
    'if-modified-since',
    'if-none-match',
    'if-range',
    'if-unmodified-since',
    'transfer-encoding',
    'via',
  ],
} as const;
