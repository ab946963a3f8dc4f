import { ApiProperty } from '@nestjs/swagger';

export class CreateGrantDto {
  @ApiProperty({
    format: 'uuid',
    description: "Object id (the token's `oid`) of the user or calling app's service principal to narrow",
  })
  principalId!: string;

  @ApiProperty({ format: 'uuid', description: 'Service principal (GUID) the caller may act on' })
  servicePrincipalId!: string;
}

export class GrantDto {
  @ApiProperty({ format: 'uuid' })
  grantId!: string;

  @ApiProperty({ format: 'uuid', description: 'The narrowed caller (token `oid`), lower-case' })
  principalId!: string;

  @ApiProperty({ format: 'uuid', description: 'The service principal it may act on, lower-case' })
  servicePrincipalId!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ description: 'Actor id of the admin who created it' })
  createdBy!: string;
}

export class GrantListDto {
  @ApiProperty({ type: () => [GrantDto], description: 'Newest first (at most 1000)' })
  items!: GrantDto[];
}

export class GrantEventActorDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
}

export class GrantEventDto {
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: ['grant.create', 'grant.delete'] }) action!: string;
  @ApiProperty({ format: 'uuid' }) grantId!: string;
  @ApiProperty({ type: () => GrantEventActorDto, description: 'The admin who made the change' })
  actor!: GrantEventActorDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'principalId and servicePrincipalId of the grant',
  })
  details!: Record<string, unknown>;
}

export class GrantEventListDto {
  @ApiProperty({ type: () => [GrantEventDto], description: 'Newest first' })
  items!: GrantEventDto[];
}
