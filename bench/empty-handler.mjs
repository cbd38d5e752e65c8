// The baseline of the cold-start measurement: a handler that imports nothing and does nothing.
export const handler = async () => ({ statusCode: 200 });
