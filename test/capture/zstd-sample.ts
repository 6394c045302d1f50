// A real zstd frame made once with /usr/bin/zstd -19 (Node 20's zlib cannot compress zstd),
// and the text it decodes to: 200 SSE-like lines.
export const ZSTD_SAMPLE_BASE64 =
  'KLUv/WTMLU0UAEZ1axtwS6o5ABYIwggWi22gqoe2u7u3lBRg6//dYwF7AF8AVQDSKYfPMTEnZ2IlRUIjIyKVUrgcEnI9q1WLStORSluW92j0eEYrFpGGI5SyJOfB4H221UXTPLL0cv4f35lVEc2ItOQDAPDAwEABwQAEhYOCBgiBcGChAIKDIcFwWLBwMASIBAMBQwCDgIOBBQVDgmEhAYODwQFCgoCDAIX3O5//Hx9ffGGxRcUVFFNMPCGxROMGY8bxcRzx3dlZXdHR3MhJrzx+x8WdnZmVFRmNjZjUSuN2WNjVWVlVUdHUSEmrLF5HRR2dkRUVEQ2NkJRK4nRQ0M3ZWE3R0MzIBDPNzDMyy3TucOY8PzHHnHxisknJJSSTjDwiskjlCmXK8hJyyPWrdWv1KnXq9Kl0aXvLzt5v9Ojxo3Fj8SJx4vChcGF5SU7OZ/Dg/W1v19f09PwsLwF339ltV3cd3XRzz8kt17vHm/f9xR139pnZZmWXkU029pjYYrVrtGnbW9hhV19ZbVV1UT31lNRSrVusWddX1FFHHxltVHQR0URDDwktVLpEmjQ9BR10843NNjXXUIGPqCFEn+//G8ErZVkDEvgT/AKE4BOCn+MHGJT7kGAbFeeDch9UbqvAfhRMQ0BLDybqhQyS01o4GQT3RXJaC2eD4L5ITmvhZBDcF8lpLZwMgvsiOa2Fk0FwXySntXAyCO6L5LQWTgbBfZGc1sLJILgvsgP8N0X151tFx2MYH+PjmYQ6xnOxPMctRHY8ho9jGJQG2WPyHI/h45lALcbzWDzHLSJ2PMaHYxhKA9ljeRyP8dGZQB3D81iewy0iOzzGxzEAeop+qHb56Buc5AaT3GAmN5gQxUoOpKpt44BN';

export function zstdSampleText(): string {
  let s = '';
  for (let i = 0; i < 200; i++) s += `data: {"type":"delta","i":${i},"text":"token ${i} zstd body"}\n\n`;
  return s;
}
