import { Injectable } from '@nestjs/common';
import { sign } from 'node:crypto';
import { AuditSigningKeys } from '@app/audit';
import { Receipt, ReceiptSigner, UnsignedReceipt } from './ai-action.types';
import { receiptPayload } from './input-hash';

/**
 * Signs approval receipts with the audit signing key, so a service checks them with the key of
 * `GET /v1/audit/public-key(s)` and node:crypto alone. The key is fetched before the unit of work.
 */
@Injectable()
export class ReceiptSigners {
  constructor(private readonly keys: AuditSigningKeys) {}

  async signer(): Promise<ReceiptSigner> {
    const key = await this.keys.forSigning();
    return (receipt: UnsignedReceipt): Receipt => {
      const unsigned = { ...receipt, keyId: key.keyId };
      const signature = sign(null, receiptPayload(unsigned), key.privateKey).toString('base64');
      return { ...unsigned, signature };
    };
  }
}
