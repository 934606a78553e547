// The one wrapper for async route handlers: it types the request as the router's own (the SCIM,
// admin and front-door routers add what authentication found) and hands a rejection to the
// router's error handler. Express 5 would forward a rejected promise too; the wrapper keeps the
// contract explicit and the same for every router.
import type { NextFunction, Request, Response } from 'express';

export const handle =
  <R extends Request = Request>(fn: (req: R, res: Response, next: NextFunction) => unknown) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req as R, res, next))
      .catch(next);
  };
