import { describe, expect, it } from 'vitest';
import { baseImageReferences, DockerfileError, expand } from '../../../src/build/dockerfile.js';

const parse = (text: string, args: Record<string, string> = {}, target?: string) => baseImageReferences(text, args, target, '/app/Dockerfile');

describe('baseImageReferences', () => {
  it('reads a single FROM', () => {
    expect(parse('FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY . .\n')).toEqual({ references: ['node:20-bookworm-slim'], finalBase: 'node:20-bookworm-slim' });
  });

  it('reads lowercase instructions, leading whitespace, CRLF and a BOM', () => {
    expect(parse('\uFEFF  from  alpine:3.19 as base\r\n\tRUN true\r\nFrom base\r\n')).toEqual({ references: ['alpine:3.19'], finalBase: 'alpine:3.19' });
  });

  it('skips the syntax directive, comments, and --platform flags', () => {
    const text = [
      '# syntax=docker/dockerfile:1.7',
      '# escape=\\',
      '',
      '# FROM commented:out',
      'FROM --platform=$BUILDPLATFORM golang:1.22@sha256:0123 AS build',
      '   # FROM indented:comment',
      'RUN go build -o /out ./...',
      'FROM --platform=linux/amd64 gcr.io/distroless/static-debian12:nonroot',
      'COPY --from=build /out /app',
    ].join('\n');
    expect(parse(text)).toEqual({ references: ['golang:1.22@sha256:0123', 'gcr.io/distroless/static-debian12:nonroot'], finalBase: 'gcr.io/distroless/static-debian12:nonroot' });
  });

  it('joins continued lines, even with comments and blank lines inside', () => {
    const text = 'FROM \\\n  # the base\n\n  python:3.12-slim \\\n  AS app\nRUN apt-get update && \\\n  apt-get install -y curl\nFROM app\n';
    expect(parse(text)).toEqual({ references: ['python:3.12-slim'], finalBase: 'python:3.12-slim' });
  });

  it('honours the backtick escape directive', () => {
    const text = '# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS base\nRUN dir C:\\ `\n  && echo ok\nFROM base\n';
    expect(parse(text)).toEqual({ references: ['mcr.microsoft.com/windows/servercore:ltsc2022'], finalBase: 'mcr.microsoft.com/windows/servercore:ltsc2022' });
  });

  it('substitutes global ARGs: defaults, build args, ${VAR}, $VAR and ${VAR:-default}', () => {
    const text = [
      'ARG REGISTRY=docker.io',
      'ARG NODE_VERSION=20',
      'ARG VARIANT',
      'ARG TAG=${NODE_VERSION}-${VARIANT:-bookworm}-slim',
      'FROM $REGISTRY/library/node:${TAG} AS base',
      'FROM ${MIRROR:-quay.io}/prom/busybox:${BUSYBOX_TAG:-latest}',
      'ARG NODE_VERSION',
      'FROM base',
    ].join('\n');
    expect(parse(text)).toEqual({ references: ['docker.io/library/node:20-bookworm-slim', 'quay.io/prom/busybox:latest'], finalBase: 'docker.io/library/node:20-bookworm-slim' });
    expect(parse(text, { NODE_VERSION: '22', VARIANT: 'alpine', MIRROR: 'not-declared.example' })).toEqual({
      references: ['docker.io/library/node:22-alpine-slim', 'quay.io/prom/busybox:latest'],
      finalBase: 'docker.io/library/node:22-alpine-slim',
    });
  });

  it('substitutes several ARGs declared on one line, quoted values, and a build arg that overrides a default', () => {
    const text = 'ARG IMAGE="eclipse-temurin" VERSION=21\nFROM ${IMAGE}:${VERSION}-jre\n';
    expect(parse(text)).toEqual({ references: ['eclipse-temurin:21-jre'], finalBase: 'eclipse-temurin:21-jre' });
    expect(parse(text, { VERSION: '17' }).references).toEqual(['eclipse-temurin:17-jre']);
  });

  it('excludes stages, by name (any case) or index, and scratch', () => {
    const text = [
      'FROM rust:1.77 AS Chef',
      'FROM chef AS planner',
      'FROM CHEF AS builder',
      'FROM 0 AS again',
      'FROM scratch AS empty',
      'FROM SCRATCH',
      'COPY --from=builder /bin/app /app',
    ].join('\n');
    expect(parse(text)).toEqual({ references: ['rust:1.77'], finalBase: undefined });
  });

  it('follows the final stage chain to its root', () => {
    const text = 'FROM node:20 AS deps\nFROM deps AS build\nFROM nginx:1.25 AS web\nFROM build AS final\n';
    expect(parse(text)).toEqual({ references: ['node:20', 'nginx:1.25'], finalBase: 'node:20' });
  });

  it('honours target: only stages up to it count, and its chain decides the final base', () => {
    const text = 'FROM golang:1.22 AS build\nFROM build AS test\nFROM alpine:3.19 AS release\nFROM ubuntu:24.04 AS debug\n';
    expect(parse(text, {}, 'test')).toEqual({ references: ['golang:1.22'], finalBase: 'golang:1.22' });
    expect(parse(text, {}, 'Release')).toEqual({ references: ['golang:1.22', 'alpine:3.19'], finalBase: 'alpine:3.19' });
    expect(parse(text)).toEqual({ references: ['golang:1.22', 'alpine:3.19', 'ubuntu:24.04'], finalBase: 'ubuntu:24.04' });
  });

  it('counts images copied or mounted from, not stages', () => {
    const text = [
      'ARG UV=ghcr.io/astral-sh/uv:0.4',
      'FROM python:3.12 AS build',
      'ARG UV',
      'COPY --from=${UV} /uv /bin/uv',
      'RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from=node:20,source=/usr/local/bin/node,target=/node true',
      'FROM python:3.12-slim',
      'COPY --link --from=build /app /app',
      'COPY --from=1 /x /y',
    ].join('\n');
    expect(parse(text, { UV: 'ghcr.io/astral-sh/uv:0.5' })).toEqual({
      references: ['python:3.12', 'ghcr.io/astral-sh/uv:0.5', 'node:20', 'python:3.12-slim'],
      finalBase: 'python:3.12-slim',
    });
  });

  it('lists a reference once', () => {
    expect(parse('FROM node:20 AS a\nFROM node:20 AS b\nCOPY --from=node:20 / /\n').references).toEqual(['node:20']);
  });

  it('skips heredoc bodies, but not a shift inside an arithmetic expansion', () => {
    const text = [
      'FROM debian:12',
      'RUN <<EOF',
      'FROM not-an-image',
      'EOF',
      'COPY <<-"CONF" /etc/app.conf',
      '\tFROM neither',
      '\tCONF',
      'RUN echo $((1<<EOF))',
      'FROM alpine:3.19',
    ].join('\n');
    expect(parse(text).references).toEqual(['debian:12', 'alpine:3.19']);
  });
});

describe('Dockerfile errors', () => {
  const failure = (run: () => unknown): unknown => {
    try {
      run();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('refuses an empty Dockerfile, comments only included', () => {
    for (const text of ['', '\n\n', '# syntax=docker/dockerfile:1\n# just a comment\n']) {
      const error = failure(() => parse(text));
      expect(error).toBeInstanceOf(DockerfileError);
      expect(error).toMatchObject({ code: 'DOCKERFILE_EMPTY', kind: 'usage', message: 'The Dockerfile /app/Dockerfile is empty' });
    }
  });

  it('refuses a Dockerfile without FROM', () => {
    expect(failure(() => parse('ARG X=1\nRUN true\n'))).toMatchObject({ code: 'DOCKERFILE_NO_FROM', message: 'The Dockerfile /app/Dockerfile has no FROM instruction' });
  });

  it('names the line of a FROM without an image, or whose args leave it empty', () => {
    expect(failure(() => parse('FROM\n'))).toMatchObject({ code: 'DOCKERFILE_INVALID', message: '/app/Dockerfile:1: FROM names no image' });
    expect(failure(() => parse('ARG BASE\n\nFROM ${BASE}\n'))).toMatchObject({
      code: 'DOCKERFILE_INVALID',
      message: '/app/Dockerfile:3: FROM ${BASE} names no image once build args are substituted',
    });
    // A build arg that is not declared before the first FROM is not visible to FROM.
    expect(failure(() => parse('FROM $BASE\n', { BASE: 'node:20' }))).toMatchObject({ code: 'DOCKERFILE_INVALID' });
    expect(failure(() => parse('ARG BASE\nFROM ${BASE:?required}\n'))).toMatchObject({
      code: 'DOCKERFILE_INVALID',
      message: '/app/Dockerfile:2: FROM ${BASE:?required}: a required build arg is not set',
    });
  });

  it('names an unknown target and the stages there are', () => {
    expect(failure(() => parse('FROM node:20 AS build\nFROM nginx AS web\nFROM web\n', {}, 'tset'))).toMatchObject({
      code: 'DOCKERFILE_TARGET_NOT_FOUND',
      message: 'The Dockerfile /app/Dockerfile has no stage named "tset" (stages: build, web)',
    });
  });
});

describe('expand', () => {
  const vars = new Map([
    ['A', 'a'],
    ['EMPTY', ''],
  ]);
  it.each([
    ['$A/${A}', 'a/a'],
    ['${MISSING}x', 'x'],
    ['${A:-d}${MISSING:-d}${EMPTY:-d}${EMPTY-d}${MISSING-d}', 'addd'],
    ['${A:+alt}${EMPTY:+alt}${EMPTY+alt}${MISSING+alt}', 'altalt'],
    ['${MISSING:-${A}-x}', 'a-x'],
    ["'$A' \"$A\" \\$A $", "$A a $A $"],
    ['$1 $', '$1 $'],
  ])('%s → %s', (word, expected) => {
    expect(expand(word, vars)).toBe(expected);
  });
});
