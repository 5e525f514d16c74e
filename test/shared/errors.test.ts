import { errorFromStates, InvalidInput } from '../../shared/errors';

describe('errorFromStates', () => {
  it('keeps the message of a Lambda error Cause and drops its stack trace', () => {
    const cause = JSON.stringify({
      errorType: 'TransientError',
      errorMessage: 'EC2 throttled DescribeVolumes',
      trace: ['TransientError: EC2 throttled', '    at scan (/var/task/index.js:1:1)'],
    });
    expect(errorFromStates('TransientError', cause)).toEqual({
      name: 'TransientError',
      cause: 'EC2 throttled DescribeVolumes',
    });
  });

  it('keeps the error type when it differs from the error name', () => {
    const cause = JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined' });
    expect(errorFromStates('Lambda.Unknown', cause)).toEqual({
      name: 'Lambda.Unknown',
      cause: 'TypeError: x is undefined',
    });
  });

  it('keeps a plain-text cause as it is, and JSON that is not a Lambda error too', () => {
    expect(errorFromStates('States.Timeout', 'The task timed out')).toEqual({
      name: 'States.Timeout',
      cause: 'The task timed out',
    });
    expect(errorFromStates('Custom', '{"reason":"x"}')).toEqual({ name: 'Custom', cause: '{"reason":"x"}' });
    expect(errorFromStates('States.ALL')).toEqual({ name: 'States.ALL' });
  });
});

describe('InvalidInput', () => {
  it('names every bad field in its message and is matched by name', () => {
    const error = new InvalidInput(
      [
        { path: 'message', message: 'Too big' },
        { path: 'trigger.type', message: 'Invalid option' },
      ],
      'heartbeat input',
    );
    expect(error.name).toBe('InvalidInput');
    expect(error.message).toBe('Invalid heartbeat input: message: Too big; trigger.type: Invalid option');
  });
});
