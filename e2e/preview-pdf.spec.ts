/**
 * A PDF previews in the browser's own viewer, fed by the service worker: the frame's URL
 * answers `application/pdf` with exactly the bytes that were sent (decrypted record by
 * record from Range reads), and it is not sandboxed, since the viewer needs to run.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { PreviewDialog } from './pages/preview-dialog.ts';

/**
 * A valid PDF of `pages` pages whose content streams are long enough to span several
 * 64 KiB records; cross-reference offsets computed, so a strict reader accepts it.
 */
function pdfBytes(pages: number): Buffer {
  const objects: string[] = [];
  const pageIds = Array.from({ length: pages }, (_, i) => 4 + i * 2);
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  for (const [i, id] of pageIds.entries()) {
    const lines = Array.from(
      { length: 700 },
      (_, n) => `BT /F1 9 Tf 40 ${800 - (n % 70) * 11} Td (Ferry PDF preview, page ${i + 1}, line ${n + 1}) Tj ET`,
    ).join('\n');
    objects[id] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${id + 1} 0 R >>`;
    objects[id + 1] = `<< /Length ${Buffer.byteLength(lines)} >>\nstream\n${lines}\nendstream`;
  }
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = Buffer.byteLength(out);
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

test('a PDF previews through the service worker with exactly the bytes that were sent', async ({
  sender,
  receiver,
  files,
}) => {
  const bytes = pdfBytes(5);
  expect(bytes.length, 'the PDF spans several records').toBeGreaterThan(3 * 64 * 1024);
  const path = join(files.dir, 'quarterly-report.pdf');
  await writeFile(path, bytes);
  await sender.open();
  const link = await sender.sendFiles(path);
  await receiver.openShare(link);

  const preview = new PreviewDialog(receiver.page, 'quarterly-report.pdf');
  await preview.open();
  const frame = preview.dialog.locator('iframe[title="PDF quarterly-report.pdf"]');
  await expect(frame).toBeVisible();
  const src = await frame.getAttribute('src');
  expect(src, 'the frame is served by the service worker').toMatch(/^\/__preview\//);

  const served = await receiver.page.evaluate(async (url) => {
    const response = await fetch(url);
    const body = new Uint8Array(await response.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      csp: response.headers.get('content-security-policy'),
      length: body.length,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
    };
  }, src ?? '');
  expect(served.status).toBe(200);
  expect(served.type).toMatch(/^application\/pdf/);
  expect(served.csp ?? '', 'the viewer must be able to run').not.toContain('sandbox');
  expect(served.length).toBe(bytes.length);
  expect(served.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));

  await receiver.page.keyboard.press('Escape');
  await expect(preview.dialog).toBeHidden();
});
