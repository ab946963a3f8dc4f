import { Module } from '@nestjs/common';
import { GrantsController } from './grants.controller';

/** The grants API (DESIGN section 2). GrantRepository comes from the global PersistenceModule. */
@Module({ controllers: [GrantsController] })
export class GrantsModule {}
