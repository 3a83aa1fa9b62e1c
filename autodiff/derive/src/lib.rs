//! `#[derive(Module)]`: a struct whose fields are parameters (`Param`), modules, or `Vec`s,
//! `Option`s and boxes of them becomes a parameter tree. Each leaf's path is its field names
//! joined by dots (`blocks.0.attn.qkv.weight`; a `Vec` element adds its index). A field that
//! is not part of the tree (a configuration value) is marked `#[module(skip)]`.
//!
//! The generated code names `::autodiff::nn`, so depend on the crate under its library name
//! `autodiff`.
#![deny(missing_docs)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields};

/// Derives `autodiff::nn::Module` (see the crate documentation).
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn skipped(attrs: &[syn::Attribute]) -> syn::Result<bool> {
    let mut skip = false;
    for a in attrs {
        if a.path().is_ident("module") {
            a.parse_nested_meta(|m| {
                if m.path.is_ident("skip") {
                    skip = true;
                    Ok(())
                } else {
                    Err(m.error("expected `skip`"))
                }
            })?;
        }
    }
    Ok(skip)
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Module)] works on structs (fields become the tree's branches)",
        ));
    };
    let mut visits = Vec::new();
    let mut visits_mut = Vec::new();
    match &data.fields {
        Fields::Named(fields) => {
            for f in &fields.named {
                if skipped(&f.attrs)? {
                    continue;
                }
                let Some(id) = &f.ident else { continue };
                let seg = id.to_string();
                let seg = seg.strip_prefix("r#").unwrap_or(&seg).to_string();
                visits.push(quote! {
                    path.push(#seg);
                    ::autodiff::nn::Module::visit(&self.#id, path, f);
                    path.pop();
                });
                visits_mut.push(quote! {
                    path.push(#seg);
                    ::autodiff::nn::Module::visit_mut(&mut self.#id, path, f);
                    path.pop();
                });
            }
        }
        Fields::Unnamed(fields) => {
            for (i, f) in fields.unnamed.iter().enumerate() {
                if skipped(&f.attrs)? {
                    continue;
                }
                let idx = syn::Index::from(i);
                let seg = i.to_string();
                visits.push(quote! {
                    path.push(#seg);
                    ::autodiff::nn::Module::visit(&self.#idx, path, f);
                    path.pop();
                });
                visits_mut.push(quote! {
                    path.push(#seg);
                    ::autodiff::nn::Module::visit_mut(&mut self.#idx, path, f);
                    path.pop();
                });
            }
        }
        Fields::Unit => {}
    }
    Ok(quote! {
        impl #impl_g ::autodiff::nn::Module for #name #ty_g #where_g {
            fn visit<'__a>(
                &'__a self,
                path: &mut ::autodiff::nn::Path,
                f: &mut dyn FnMut(&::autodiff::nn::Path, &'__a ::autodiff::nn::Param),
            ) {
                #(#visits)*
            }
            fn visit_mut(
                &mut self,
                path: &mut ::autodiff::nn::Path,
                f: &mut dyn FnMut(&::autodiff::nn::Path, &mut ::autodiff::nn::Param),
            ) {
                #(#visits_mut)*
            }
        }
    })
}
