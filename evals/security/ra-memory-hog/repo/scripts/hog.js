const keep = [];
for (;;) keep.push(Buffer.alloc(64 * 1024 * 1024, 1));
