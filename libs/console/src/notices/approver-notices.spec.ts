import { noticeErrorCode } from './approver-notices';

describe('noticeErrorCode (what a failed notice stores)', () => {
  it('keeps a code, never the message that may quote the address', () => {
    const smtp = Object.assign(new Error('550 5.1.1 <ann@example.com>: user unknown'), {
      code: 'EENVELOPE',
      responseCode: 550,
    });
    expect(noticeErrorCode(smtp)).toBe('smtp_550');
    const net = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:25'), {
      code: 'ESOCKET',
    });
    expect(noticeErrorCode(net)).toBe('ESOCKET');
    expect(noticeErrorCode(new Error('bob@example.com rejected'))).toBe('send_failed');
    expect(noticeErrorCode({ code: 'weird code <bob@example.com>' })).toBe('send_failed');
    expect(noticeErrorCode(undefined)).toBe('send_failed');
  });
});
