import { Anchor, Button, NavLink, type AnchorProps, type ButtonProps, type NavLinkProps } from "@mantine/core";
import { createLink } from "@tanstack/react-router";
import { forwardRef, type ComponentPropsWithoutRef } from "react";

// Mantine components rendered as router links: real <a href> elements (open in a new tab,
// keyboard and screen readers treat them as links) that navigate without reloading.

const AnchorBase = forwardRef<HTMLAnchorElement, AnchorProps & ComponentPropsWithoutRef<"a">>((props, ref) => (
  <Anchor ref={ref} {...props} />
));
export const AnchorLink = createLink(AnchorBase);

const NavLinkBase = forwardRef<HTMLAnchorElement, NavLinkProps & Omit<ComponentPropsWithoutRef<"a">, keyof NavLinkProps>>(
  (props, ref) => <NavLink ref={ref} component="a" {...props} />,
);
export const NavLinkLink = createLink(NavLinkBase);

const ButtonBase = forwardRef<HTMLAnchorElement, ButtonProps & Omit<ComponentPropsWithoutRef<"a">, keyof ButtonProps>>(
  (props, ref) => <Button ref={ref} component="a" {...props} />,
);
export const ButtonLink = createLink(ButtonBase);
